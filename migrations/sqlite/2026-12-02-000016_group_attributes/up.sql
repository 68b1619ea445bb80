-- SAML attributes whose values make groups (issue 15): an organization
-- names them (for example `department`); at each sign-in the learner is in
-- the groups named by the values the IdP sent, made when first seen.
CREATE TABLE group_attributes (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL,
    PRIMARY KEY (org_id, attribute)
);
-- The attribute a group's name is a value of (NULL for groups pushed over SCIM).
ALTER TABLE learner_groups ADD COLUMN saml_attribute TEXT;
CREATE UNIQUE INDEX learner_groups_attribute_value
    ON learner_groups (org_id, saml_attribute, display_name);
