DROP INDEX learner_groups_attribute_value;
ALTER TABLE learner_groups DROP COLUMN saml_attribute;
DROP TABLE group_attributes;
