# httpd/: rules of this part
