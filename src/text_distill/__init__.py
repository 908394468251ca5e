"""text-distill: distil a fine-tuned BERT-family classifier into small, fast CPU students."""

__version__ = "0.1.0"
