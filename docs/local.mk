# docs
include docs/client.mk
