# guide.sh -- docs/environment.md's blocks as the environment tests use
# them, verbatim. Source it; needs top_srcdir, and for guide_reader_conf
# the variables of the env file etcd-up.sh writes (ETCD_ENDPOINTS,
# ETCD_DIR).
#
#   guide_block NAME [DOC]      the lines between "<!-- begin NAME -->"
#                               and "<!-- end NAME -->" of docs/DOC
#                               (environment.md), fences dropped
#   guide_reader_conf DIR [SED_ARG...]
#                               DIR/kaasd.conf: a reader on DIR/kaasd.sock
#                               and DIR/state with the guide's reader block
#                               pointed at this cluster (node1's
#                               certificate, its etcd password copied into
#                               DIR); SED_ARGs (-e EXPR ...) change it more

guide_block() {
    awk -v name="$1" '$0 == "<!-- begin " name " -->" { on = 1; next }
        $0 == "<!-- end " name " -->" { on = 0 } on && !/^```/ { print }' "$top_srcdir/docs/${2:-environment.md}"
}

guide_reader_conf() {
    local d=$1
    shift
    mkdir -p "$d/state" &&
        install -m 0600 "$ETCD_DIR/secrets/kaas-node-node1.password" "$d/etcd-password" || return
    {
        printf '[kaasd]\nsocket = %s\nstate_dir = %s\nlog_target = stderr\n\n' "$d/kaasd.sock" "$d/state"
        guide_block kaasd-etcd-reader | sed -e "s|^endpoints = .*|endpoints = $ETCD_ENDPOINTS|" \
            -e "s|^ca_file = .*|ca_file = $ETCD_DIR/pki/ca.crt|" \
            -e "s|^cert_file = .*|cert_file = $ETCD_DIR/pki/kaas-node-node1.crt|" \
            -e "s|^key_file = .*|key_file = $ETCD_DIR/pki/kaas-node-node1.key|" \
            -e "s|^password_file = .*|password_file = $d/etcd-password|" "$@"
    } >"$d/kaasd.conf"
}
