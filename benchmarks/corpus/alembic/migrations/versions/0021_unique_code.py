"""unique code"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"


def upgrade():
    op.add_column("coupons", sa.Column("code", sa.Text(), nullable=True))
    op.create_unique_constraint("uq_coupons_code", "coupons", ["code"])  # expect: unique-constraint-locks


def downgrade():
    pass
