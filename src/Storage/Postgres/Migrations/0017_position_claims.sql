-- Global event positions reserved by appends still in flight (ADR 0026). An append claims its positions in a short
-- transaction of its own, then deletes the claim in the transaction that writes its events. Readers never read past
-- the lowest claimed position, so a later position committed first is never read before an earlier one.
CREATE TABLE position_claims (
    stream TEXT NOT NULL,
    first_position BIGINT NOT NULL,
    last_position BIGINT NOT NULL,
    backend_pid INTEGER NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stream, first_position)
);
