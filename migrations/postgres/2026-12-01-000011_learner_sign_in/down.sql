DROP TABLE linkedin_sign_ins;
ALTER TABLE organizations DROP COLUMN learner_sign_in;
