"""sqlite batch"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.Text(), nullable=True))
        batch_op.alter_column("email_normalized", nullable=False)  # expect: not-null-existing


def downgrade():
    pass
