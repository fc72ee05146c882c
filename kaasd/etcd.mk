# kaasd's replica of the environment's token store in etcd: the etcd v3
# JSON-gateway client, the replica, and their tests (a real 3-member etcd
# cluster with TLS and RBAC, tests/etcd/).

EXTRA_DIST += docs/environment.md \
	tests/etcd/etcd-up.sh tests/etcd/etcd-down.sh
