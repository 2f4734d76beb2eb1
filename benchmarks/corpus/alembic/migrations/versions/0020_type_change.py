"""type change"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"


def upgrade():
    op.alter_column("orders", "status", type_=sa.String(32), existing_type=sa.Text())  # expect: alter-type


def downgrade():
    pass
