# dist/ for kaas-webhook: its systemd unit, the sysusers entry of its user
# and of kaasd's validator group, and an example configuration. Uses the
# directories and the dist_subst command of dist/local.mk.

systemdsystemunit_DATA += dist/kaas-webhook.service
sysusers_DATA += dist/sysusers.d/kaas-webhook.conf
kaasconf_DATA += dist/webhook.conf.example

EXTRA_DIST += dist/kaas-webhook.service.in dist/kaas-webhook.sysusers dist/webhook.conf.in
CLEANFILES += dist/kaas-webhook.service dist/webhook.conf.example dist/sysusers.d/kaas-webhook.conf

dist/kaas-webhook.service: $(srcdir)/dist/kaas-webhook.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/kaas-webhook.service.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/webhook.conf.example: $(srcdir)/dist/webhook.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && \
	$(dist_subst) $(srcdir)/dist/webhook.conf.in > $@.tmp && \
	if $(GREP) -n '@[a-z_]*@' $@.tmp; then echo "$@: unsubstituted name" >&2; rm -f $@.tmp; exit 1; fi && \
	mv $@.tmp $@

dist/sysusers.d/kaas-webhook.conf: $(srcdir)/dist/kaas-webhook.sysusers
	$(AM_V_GEN)$(MKDIR_P) dist/sysusers.d && cp $(srcdir)/dist/kaas-webhook.sysusers $@
