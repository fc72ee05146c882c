# dist/: what an installation needs besides the programs — the systemd
# units, the sysusers entry for the "kaas" user and an example
# configuration. Templates (*.in) get the configured paths substituted here,
# so the installed files name the directories this build was configured for.

systemdsystemunit_DATA = dist/kaasd.service dist/kaasd.socket

# systemd-sysusers also reads $(prefix)/lib/sysusers.d for /usr/local builds;
# override with make sysusersdir=DIR.
sysusersdir = $(prefix)/lib/sysusers.d
sysusers_DATA = dist/sysusers.d/kaas.conf

# kaasd's state directory for systemd-tmpfiles, beside the sysusers entry.
tmpfilesdir = $(prefix)/lib/tmpfiles.d
tmpfiles_DATA = dist/tmpfiles.d/kaas.conf

# Installed beside, never over, the administrator's kaasd.conf.
kaasconfdir = $(sysconfdir)/kaas
kaasconf_DATA = dist/kaasd.conf.example

EXTRA_DIST += dist/kaasd.service.in dist/kaasd.socket dist/kaas.sysusers dist/kaas.tmpfiles dist/kaasd.conf.in \
	dist/pam-configs/kaas
CLEANFILES += dist/kaasd.service dist/kaasd.conf.example dist/sysusers.d/kaas.conf dist/tmpfiles.d/kaas.conf

# A template left with an unknown @name@ would install a broken file: fail.
dist_subst = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@runstatedir[@]|$(runstatedir)|g'

dist/kaasd.service: $(srcdir)/dist/kaasd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/kaasd.service.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/kaasd.conf.example: $(srcdir)/dist/kaasd.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/kaasd.conf.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/tmpfiles.d/kaas.conf: $(srcdir)/dist/kaas.tmpfiles
	$(AM_V_GEN)$(MKDIR_P) dist/tmpfiles.d && cp $(srcdir)/dist/kaas.tmpfiles $@

# sysusers.d wants NAME.conf; the source keeps a name that says what it is.
dist/sysusers.d/kaas.conf: $(srcdir)/dist/kaas.sysusers
	$(AM_V_GEN)$(MKDIR_P) dist/sysusers.d && cp $(srcdir)/dist/kaas.sysusers $@
include dist/webhook.mk
include dist/panel.mk
