"""permissions and audit log

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "permission",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=64), nullable=False),
        sa.Column("namespace", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "component", "namespace", "name"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=256), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("retcode", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_time"), ["time"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_job_id"))
        batch_op.drop_index(batch_op.f("ix_audit_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_time"))
    op.drop_table("audit")
    op.drop_table("permission")
