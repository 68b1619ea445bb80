ALTER TABLE linkedin_sign_ins DROP COLUMN return_to;
