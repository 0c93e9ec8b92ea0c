-- A group robot's signing secret (加签, DingTalk "SEC…"); empty when the robot is not signed.
ALTER TABLE webhooks ADD COLUMN secret TEXT NOT NULL DEFAULT '';
