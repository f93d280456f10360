-- The ticket's tracking token, sealed under the customer's data key (like
-- the contact beside it), so that the mail about the ticket (opened, an
-- agent's reply, solved) can carry the customer's link. Erasing the
-- customer makes it unreadable with the contact.
ALTER TABLE tickets ADD COLUMN tracking_sealed BYTEA;
