# dist/ for kaas-panel: its systemd unit, the sysusers entry of its user
# and of kaasd's frontend group, and an example configuration. Uses the
# directories and the dist_subst command of dist/local.mk.

systemdsystemunit_DATA += dist/kaas-panel.service
sysusers_DATA += dist/sysusers.d/kaas-panel.conf
kaasconf_DATA += dist/panel.conf.example

EXTRA_DIST += dist/kaas-panel.service.in dist/kaas-panel.sysusers dist/panel.conf.in
CLEANFILES += dist/kaas-panel.service dist/panel.conf.example dist/sysusers.d/kaas-panel.conf

dist/kaas-panel.service: $(srcdir)/dist/kaas-panel.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/kaas-panel.service.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/panel.conf.example: $(srcdir)/dist/panel.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/panel.conf.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/sysusers.d/kaas-panel.conf: $(srcdir)/dist/kaas-panel.sysusers
	$(AM_V_GEN)$(MKDIR_P) dist/sysusers.d && cp $(srcdir)/dist/kaas-panel.sysusers $@
