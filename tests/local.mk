# Test wiring shared by every part: cmocka unit tests are check_PROGRAMS
# listed in TESTS by each part's fragment; shell integration tests end in .sh.
