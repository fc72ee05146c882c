# The PAM module's man page: options, return codes and the sshd guide.
dist_man_MANS += docs/pam_kaas.8
