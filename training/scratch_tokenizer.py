"""The WordPiece vocabulary of a BERT trained from scratch (``model.scratch``), learnt from the training words.

Words are normalised exactly as the model sees them at inference (``rasd.normalize``), so the
vocabulary covers the forms the encoder is fed.

Example:
    >>> from rasd.normalize import NormalizationConfig
    >>> from training.config import ScratchEncoder
    >>> tok = train_scratch_tokenizer([["قصفت", "قوات", "النظام", "درعا"]] * 3, ScratchEncoder(vocab_size=200),
    ...                               NormalizationConfig())
    >>> tok.convert_ids_to_tokens(tok("درعا")["input_ids"])
    ['[CLS]', 'درعا', '[SEP]']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rasd.normalize import NormalizationConfig, normalize_word
from training.config import ScratchEncoder

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def train_scratch_tokenizer(sentences: Iterable[list[str]], scratch: ScratchEncoder,
                            normalization: NormalizationConfig) -> Any:
    """A ``PreTrainedTokenizerFast`` (BERT-style WordPiece) learnt from ``sentences`` of words."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=scratch.vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                        min_frequency=1)
    tok.train_from_iterator((" ".join(normalize_word(w, normalization) for w in s) for s in sentences), trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    # transformers 5 ignores vocab_file= silently (PLATFORM-NOTES): hand over the object itself.
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=scratch.max_position_embeddings)
