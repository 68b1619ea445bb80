DROP TABLE group_members;
DROP TABLE learner_groups;
