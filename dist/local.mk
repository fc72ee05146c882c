# dist
