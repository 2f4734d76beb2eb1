"""status not null"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade():
    op.alter_column("orders", "status", nullable=False)  # expect: not-null-existing


def downgrade():
    pass
