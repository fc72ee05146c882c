# panel/: rules of this part
