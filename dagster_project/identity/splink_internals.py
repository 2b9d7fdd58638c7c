"""The few Splink names that Splink 5 does not export publicly, imported in this one place.

Splink 5's public modules (``splink``, ``splink.comparison_library``, ...) give the linker, the
settings creator and the comparison libraries, but not the exception EM raises when a session
finds no usable pairs, nor the types of comparisons, blocking rules and result tables that our
annotations name. When Splink exports them, only this module changes.
"""

from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.exceptions import EMTrainingException
from splink.internals.splink_dataframe import SplinkDataFrame

__all__ = ["BlockingRuleCreator", "ComparisonCreator", "EMTrainingException", "SplinkDataFrame"]
