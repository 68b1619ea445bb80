DROP TABLE sso_tests;
