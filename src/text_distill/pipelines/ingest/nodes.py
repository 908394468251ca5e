"""Ingest: raw corpus -> validated, de-duplicated rows + quarantine + row accounting -> checks -> splits.

The nodes are the library's functions (``distill.data.corpus``, ``distill.data.splits``), each a
function of its catalog inputs and the ``ingest`` parameters. The quarantine and the row accounting
are saved before
``check_corpus`` may stop the run, so a rejected corpus still leaves the evidence of why.
"""

from text_distill.distill.data.corpus import check_corpus, parse_corpus, validate_corpus
from text_distill.distill.data.splits import hold_out_test, split_examples

__all__ = ["check_corpus", "hold_out_test", "parse_corpus", "split_examples", "validate_corpus"]
