"""audit log"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_id", "audit_log", ["id"])
    op.create_check_constraint("ck_audit_payload", "audit_log", "payload IS NOT NULL")


def downgrade():
    pass
