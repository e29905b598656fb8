"""Reference token ids and sentence vectors for the Swift embedder, from code that is not ours.

Token ids come from Hugging Face's `tokenizers` (the Rust implementation behind transformers),
reading the model's own tokenizer.json with its fixed padding turned off and truncation at 256
(sentence-transformers' max_seq_length). Vectors come from the BERT forward pass below, written
in numpy (float64) from the published architecture: embeddings + LayerNorm, 6 post-norm
encoder layers with 12-head self-attention and exact (erf) GELU, then mean pooling over the
real tokens and L2 normalisation.

Usage: minilm_oracle.py MODEL_DIR INPUT_JSONL OUTPUT_JSONL
INPUT holds one JSON string per line; OUTPUT gets {"ids": [...], "vector": [...]} per line.
"""
import json
import math
import struct
import sys

import numpy as np
from tokenizers import Tokenizer


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_length])
    base = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        start, end = entry["data_offsets"]
        array = np.frombuffer(data[base + start:base + end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = array.astype(np.float64)
    return tensors


def layer_norm(x, gain, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * gain + bias


ERF = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + ERF(x / math.sqrt(2.0)))


def encode(ids, w, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    width = hidden // heads
    eps = config["layer_norm_eps"]
    n = len(ids)
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def dense(name, inp):
            return inp @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q = dense("attention.self.query", x).reshape(n, heads, width).transpose(1, 0, 2)
        k = dense("attention.self.key", x).reshape(n, heads, width).transpose(1, 0, 2)
        v = dense("attention.self.value", x).reshape(n, heads, width).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(width)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = layer_norm(x + dense("attention.output.dense", context),
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        inner = gelu(dense("intermediate.dense", x))
        x = layer_norm(x + dense("output.dense", inner),
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = x.mean(axis=0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def main():
    model_dir, source, target = sys.argv[1:4]
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    with open(f"{model_dir}/config.json") as f:
        config = json.load(f)
    weights = load_safetensors(f"{model_dir}/model.safetensors")
    with open(source, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    with open(target, "w") as out:
        for encoding in tokenizer.encode_batch(texts):
            vector = encode(encoding.ids, weights, config)
            out.write(json.dumps({"ids": encoding.ids, "vector": [float(v) for v in vector]}) + "\n")


if __name__ == "__main__":
    main()
