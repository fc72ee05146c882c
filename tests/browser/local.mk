# tests/browser/: kaas-panel end to end in a real browser, Debian's chromium
# driven headless by puppeteer-core (pinned in package.json and
# package-lock.json, installed by `npm ci --prefix tests/browser`, which
# tools/deps.sh runs; node_modules is not distributed). Skipped when the
# browser or puppeteer-core is missing, unless CI=true.
TESTS += tests/browser/test_panel_browser.sh
EXTRA_DIST += tests/browser/test_panel_browser.sh tests/browser/panel.test.js tests/browser/lib.js \
	tests/browser/package.json tests/browser/package-lock.json

# docs/panel.md and the screenshots it shows, taken by the browser test
PANEL_SCREENSHOTS = login login-360px login-failed tokens token-new delete-confirm clusters services \
	admin admin-tokens admin-user admin-rbac
EXTRA_DIST += docs/panel.md $(PANEL_SCREENSHOTS:%=docs/panel/%.png)

# make panel-screenshots: runs the browser test and copies the pages
# docs/panel.md shows from its screenshots into the source tree
panel-screenshots: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS=tests/browser/test_panel_browser.sh
	@for s in $(PANEL_SCREENSHOTS); do \
		cp tests/browser/shots/docs-$$s.png $(srcdir)/docs/panel/$$s.png || exit 1; \
	done
	@echo "docs/panel/*.png refreshed from tests/browser/shots/"
.PHONY: panel-screenshots
CLEANFILES += tests/browser/shots/*.png tests/browser/*.log
