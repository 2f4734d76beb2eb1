"""orders status"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))
    op.add_column(  # expect: volatile-default
        "orders", sa.Column("public_id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"))
    )
    op.add_column("orders", sa.Column("updated_at", sa.DateTime(), server_default=sa.text("now()")))


def downgrade():
    pass
