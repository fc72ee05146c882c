# tests/browser/: rules of this part
