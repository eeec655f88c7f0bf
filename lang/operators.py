"""The binary operators' one table: the grammar's terminal for each, its precedence level
and associativity — read by the builder (terminal → operator) and the printer (where
parentheses are needed), so the two cannot disagree.

The levels mirror the rule nesting of grammar/ndx.lark, loosest first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from .ast import BinaryOp


class Level(enum.IntEnum):
    """Precedence levels, loosest first: an operand at a looser level than its operator's
    needs parentheses."""

    FUNCTION = 0  # lambda, let, with, assert, if: extend as far right as possible
    IMPL = 1
    OR = 2
    AND = 3
    EQ = 4
    CMP = 5
    UPDATE = 6
    NOT = 7
    ADD = 8
    MUL = 9
    CONCAT = 10
    HAS = 11
    NEG = 12
    APP = 13
    SELECT = 14
    SIMPLE = 15  # literals, variables, bracketed forms


Associativity = Literal["left", "right", "none"]


@dataclass(frozen=True)
class Operator:
    """One binary operator: the grammar terminal that spells it, its level, and which
    operand may sit at the same level unbracketed ("none": neither, `a == b == c` is an
    error)."""

    op: BinaryOp
    terminal: str
    level: Level
    associativity: Associativity


BINARY_OPERATORS: dict[BinaryOp, Operator] = {o.op: o for o in (
    Operator(BinaryOp.IMPL, "IMPL", Level.IMPL, "right"),
    Operator(BinaryOp.OR, "OR", Level.OR, "left"),
    Operator(BinaryOp.AND, "AND", Level.AND, "left"),
    Operator(BinaryOp.EQ, "EQ", Level.EQ, "none"),
    Operator(BinaryOp.NE, "NEQ", Level.EQ, "none"),
    Operator(BinaryOp.LT, "LT", Level.CMP, "none"),
    Operator(BinaryOp.LE, "LEQ", Level.CMP, "none"),
    Operator(BinaryOp.GT, "GT", Level.CMP, "none"),
    Operator(BinaryOp.GE, "GEQ", Level.CMP, "none"),
    Operator(BinaryOp.UPDATE, "UPDATE", Level.UPDATE, "right"),
    Operator(BinaryOp.ADD, "PLUS", Level.ADD, "left"),
    Operator(BinaryOp.SUB, "MINUS", Level.ADD, "left"),
    Operator(BinaryOp.MUL, "STAR", Level.MUL, "left"),
    Operator(BinaryOp.DIV, "SLASH", Level.MUL, "left"),
    Operator(BinaryOp.CONCAT, "CONCAT", Level.CONCAT, "right"),
)}

#: The operator each grammar terminal spells.
BY_TERMINAL: dict[str, BinaryOp] = {o.terminal: o.op for o in BINARY_OPERATORS.values()}
