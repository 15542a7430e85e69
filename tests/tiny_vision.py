"""Tiny random vision models, built from scratch and saved like hub checkpoints.

No captioning weights ship on PyPI and there is no hub here, so tests build their own: real architectures with
random weights, loaded through exactly the code that loads a hub id. Their text is gibberish; tests assert the
mechanics (a string arrives, streamed, with timings and token counts), never the words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.catalog import load_catalog
from playground.events import Credentials

CORPUS = ["a cat sitting on a mat", "a man riding a horse", "a cup of coffee on a table", "Describe this image."] * 8


def _tokenizer(special: list[str], **roles):
    """A byte-level BPE tokenizer trained in a blink on a few captions."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=special[0]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=special[0], **roles)


def build_tiny_captioner(folder: Path) -> Path:
    """A VisionEncoderDecoder (the architecture of nlpconnect/vit-gpt2-image-captioning): 2-layer ViT encoder +
    2-layer GPT-2 decoder, with its tokenizer and image processor."""
    import torch
    from transformers import (
        GPT2Config,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    tokenizer = _tokenizer(["<unk>", "<s>", "</s>", "<pad>"], bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    encoder = ViTConfig(**TINY_VIT)
    decoder = GPT2Config(
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=128,
        vocab_size=len(tokenizer),
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        add_cross_attention=True,
        is_decoder=True,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = tokenizer.bos_token_id
    config.pad_token_id = tokenizer.pad_token_id
    config.eos_token_id = tokenizer.eos_token_id
    torch.manual_seed(0)
    VisionEncoderDecoderModel(config=config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


TINY_VIT = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32, patch_size=8
)
TINY_TEXT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _bert_style_tokenizer():
    """BLIP and GIT speak BERT's special tokens: [CLS] starts, [SEP] ends, BLIP's decoder starts with [DEC]."""
    special = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[DEC]"]
    return _tokenizer(
        special, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", bos_token="[DEC]", eos_token="[SEP]"
    )


def build_tiny_blip(folder: Path) -> Path:
    """BlipForConditionalGeneration (the architecture of Salesforce/blip-image-captioning-base)."""
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    tokenizer = _bert_style_tokenizer()
    text = dict(
        TINY_TEXT,
        vocab_size=len(tokenizer),
        encoder_hidden_size=32,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.sep_token_id,
        sep_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    BlipForConditionalGeneration(
        BlipConfig(text_config=text, vision_config=TINY_VIT, projection_dim=32)
    ).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    BlipImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def build_tiny_git(folder: Path) -> Path:
    """GitForCausalLM (the architecture of microsoft/git-base-coco)."""
    import torch
    from transformers import GitConfig, GitForCausalLM
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = _bert_style_tokenizer()
    config = GitConfig(
        vision_config=dict(TINY_VIT, projection_dim=32),
        vocab_size=len(tokenizer),
        max_position_embeddings=128,
        **TINY_TEXT,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    GitForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def build_tiny_vlm(folder: Path) -> Path:
    """An Idefics3 model (the architecture of SmolVLM-256M-Instruct) with its processor and chat template."""
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil
    from transformers.models.smolvlm.processing_smolvlm import DEFAULT_CHAT_TEMPLATE

    grid = [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7)]
    special = [
        "<|endoftext|>",
        "<|im_start|>",
        "<end_of_utterance>",
        "<image>",
        "<fake_token_around_image>",
        "<global-img>",
        *grid,
    ]
    tokenizer = _tokenizer(special, bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<|endoftext|>")
    text = dict(
        model_type="llama",
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        intermediate_size=64,
        vocab_size=len(tokenizer),
        max_position_embeddings=512,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = Idefics3Config(
        vision_config=TINY_VIT,
        text_config=text,
        scale_factor=2,
        tie_word_embeddings=False,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = Idefics3ForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    # (32 / 8)^2 patches / 2^2 pixel shuffle = 4 image tokens per tile; images split into 32 px tiles of a 64 px view
    images = Idefics3ImageProcessorPil(size={"longest_edge": 64}, max_image_size={"longest_edge": 32})
    Idefics3Processor(images, tokenizer, image_seq_len=4, chat_template=DEFAULT_CHAT_TEMPLATE).save_pretrained(folder)
    return folder


def catalog_entry(model_id: str, backend: str, folder: Path, tasks: str = '["caption"]') -> str:
    """A catalog.toml entry pointing at a local folder: the same loader as a hub id, with no network."""
    return f"""
[[models]]
id = "{model_id}"
name = "{model_id} (tiny random)"
tasks = {tasks}
openness = "open"
license = "test"
provider = "local"
backend = "{backend}"
source = "path:{folder}"
"""


# ---------------------------------------------------------------- fixtures (registered through conftest's pytest_plugins)


@pytest.fixture(scope="session")
def tiny_captioner(tmp_path_factory) -> Path:
    return build_tiny_captioner(tmp_path_factory.mktemp("tiny_captioner"))


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm"))


@pytest.fixture(scope="session")
def caption_catalog_file(tiny_captioner, tiny_vlm, tmp_path_factory) -> Path:
    """The bundled catalog plus tiny models of each captioning architecture, declared as path: entries."""
    root = tmp_path_factory.mktemp("tiny_models")
    path = root / "tiny.toml"
    path.write_text(
        catalog_entry("tiny-captioner", "image-captioner", tiny_captioner)
        + catalog_entry("tiny-blip", "image-captioner", build_tiny_blip(root / "blip"))
        + catalog_entry("tiny-git", "image-captioner", build_tiny_git(root / "git"))
        + catalog_entry("tiny-vlm", "vision-language", tiny_vlm)
    )
    return path


@pytest.fixture(scope="session")
def caption_catalog(caption_catalog_file):
    return load_catalog(caption_catalog_file)


@pytest.fixture(scope="session")
def vlm_serve_credentials(tiny_vlm, tmp_path_factory) -> Credentials:
    """`transformers serve` serving the tiny vision-language model: a real OpenAI-compatible vision endpoint."""
    from tests.conftest import transformers_serve

    with transformers_serve(tiny_vlm, tmp_path_factory.mktemp("vlm_hf_home")) as endpoint:
        yield Credentials(self_hosted=endpoint)
