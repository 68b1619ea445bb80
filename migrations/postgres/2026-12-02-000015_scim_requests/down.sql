DROP TABLE scim_request_errors;
