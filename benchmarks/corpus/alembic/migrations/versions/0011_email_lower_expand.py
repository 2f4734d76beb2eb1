"""email lower expand"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade():
    op.add_column("users", sa.Column("email_normalized", sa.Text(), nullable=True))
    op.execute("UPDATE users SET email_normalized = lower(email)")


def downgrade():
    pass
