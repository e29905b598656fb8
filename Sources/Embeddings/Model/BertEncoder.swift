import COpenBLAS
import Foundation

/// The forward pass of a BERT encoder (all-MiniLM-L6-v2's shape by default) over packed token
/// sequences: the dense layers of every sequence in a batch run as one GEMM over all their
/// tokens, attention runs per sequence, and nothing is padded.
public final class BertEncoder: Sendable {
    public struct Shape: Sendable, Equatable {
        public var layers = 6
        public var hidden = 384
        public var heads = 12
        public var intermediate = 1536
        public var maxPositions = 512
        public var vocabulary = 30522
        public var layerNormEpsilon: Float = 1e-12
        public init() {}
    }

    struct Layer: @unchecked Sendable {
        let query: UnsafePointer<Float>, queryBias: UnsafePointer<Float>
        let key: UnsafePointer<Float>, keyBias: UnsafePointer<Float>
        let value: UnsafePointer<Float>, valueBias: UnsafePointer<Float>
        let attentionOut: UnsafePointer<Float>, attentionOutBias: UnsafePointer<Float>
        let attentionNormGain: UnsafePointer<Float>, attentionNormBias: UnsafePointer<Float>
        let intermediate: UnsafePointer<Float>, intermediateBias: UnsafePointer<Float>
        let output: UnsafePointer<Float>, outputBias: UnsafePointer<Float>
        let outputNormGain: UnsafePointer<Float>, outputNormBias: UnsafePointer<Float>
    }

    struct Embeddings: @unchecked Sendable {
        let words: UnsafePointer<Float>
        let positions: UnsafePointer<Float>
        let tokenTypes: UnsafePointer<Float>
        let normGain: UnsafePointer<Float>
        let normBias: UnsafePointer<Float>
    }

    public let shape: Shape
    /// Keeps the mapping (and so every pointer below) alive.
    let weights: SafeTensors
    let embeddings: Embeddings
    let layers: [Layer]

    public init(weights: SafeTensors, shape: Shape = Shape(), threads: Int = 1) throws {
        self.weights = weights
        self.shape = shape
        let h = shape.hidden
        func vector(_ name: String, _ count: Int) throws -> UnsafePointer<Float> { try weights.floats(name, shape: [count]) }
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> UnsafePointer<Float> {
            try weights.floats(name, shape: [rows, columns])
        }
        embeddings = Embeddings(
            words: try matrix("embeddings.word_embeddings.weight", shape.vocabulary, h),
            positions: try matrix("embeddings.position_embeddings.weight", shape.maxPositions, h),
            tokenTypes: try matrix("embeddings.token_type_embeddings.weight", 2, h),
            normGain: try vector("embeddings.LayerNorm.weight", h),
            normBias: try vector("embeddings.LayerNorm.bias", h))
        layers = try (0..<shape.layers).map { index in
            let p = "encoder.layer.\(index)."
            return Layer(
                query: try matrix(p + "attention.self.query.weight", h, h), queryBias: try vector(p + "attention.self.query.bias", h),
                key: try matrix(p + "attention.self.key.weight", h, h), keyBias: try vector(p + "attention.self.key.bias", h),
                value: try matrix(p + "attention.self.value.weight", h, h), valueBias: try vector(p + "attention.self.value.bias", h),
                attentionOut: try matrix(p + "attention.output.dense.weight", h, h),
                attentionOutBias: try vector(p + "attention.output.dense.bias", h),
                attentionNormGain: try vector(p + "attention.output.LayerNorm.weight", h),
                attentionNormBias: try vector(p + "attention.output.LayerNorm.bias", h),
                intermediate: try matrix(p + "intermediate.dense.weight", shape.intermediate, h),
                intermediateBias: try vector(p + "intermediate.dense.bias", shape.intermediate),
                output: try matrix(p + "output.dense.weight", h, shape.intermediate), outputBias: try vector(p + "output.dense.bias", h),
                outputNormGain: try vector(p + "output.LayerNorm.weight", h), outputNormBias: try vector(p + "output.LayerNorm.bias", h))
        }
        openblas_set_num_threads(Int32(max(1, threads)))
    }

    /// Mean-pooled, L2-normalised sentence vectors, one per sequence of token ids.
    public func embed(_ sequences: [[Int32]]) -> [[Float]] {
        let h = shape.hidden
        let lengths = sequences.map(\.count)
        let total = lengths.reduce(0, +)
        guard total > 0 else { return sequences.map { _ in [Float](repeating: 0, count: h) } }
        var x = [Float](repeating: 0, count: total * h)
        var scratch = Scratch(tokens: total, shape: shape, longest: lengths.max() ?? 0)
        x.withUnsafeMutableBufferPointer { x in
            embedTokens(sequences, into: x.baseAddress!)
            for layer in layers {
                run(layer, x: x.baseAddress!, lengths: lengths, scratch: &scratch)
            }
        }
        var offset = 0
        return lengths.map { length in
            defer { offset += length }
            return Kernels.meanPoolNormalized(x, rows: offset..<(offset + length), width: h)
        }
    }

    struct Scratch {
        var q, k, v, context, projected: [Float]
        var inner: [Float]
        var scores: [Float]
        init(tokens: Int, shape: Shape, longest: Int) {
            let size = tokens * shape.hidden
            q = [Float](repeating: 0, count: size)
            k = q
            v = q
            context = q
            projected = q
            inner = [Float](repeating: 0, count: tokens * shape.intermediate)
            scores = [Float](repeating: 0, count: longest * longest)
        }
    }

    func embedTokens(_ sequences: [[Int32]], into x: UnsafeMutablePointer<Float>) {
        let h = shape.hidden
        var row = 0
        for sequence in sequences {
            for (position, id) in sequence.enumerated() {
                let out = x + row * h
                let word = embeddings.words + Int(id) * h
                let place = embeddings.positions + min(position, shape.maxPositions - 1) * h
                for i in 0..<h { out[i] = word[i] + place[i] + embeddings.tokenTypes[i] }
                Kernels.layerNorm(out, width: h, gain: embeddings.normGain, bias: embeddings.normBias, epsilon: shape.layerNormEpsilon)
                row += 1
            }
        }
    }

    func run(_ layer: Layer, x: UnsafeMutablePointer<Float>, lengths: [Int], scratch: inout Scratch) {
        let h = shape.hidden
        let tokens = lengths.reduce(0, +)
        let headWidth = h / shape.heads
        let scale = 1 / Float(headWidth).squareRoot()
        scratch.q.withUnsafeMutableBufferPointer { q in
            scratch.k.withUnsafeMutableBufferPointer { k in
                scratch.v.withUnsafeMutableBufferPointer { v in
                    scratch.context.withUnsafeMutableBufferPointer { context in
                        scratch.scores.withUnsafeMutableBufferPointer { scores in
                            let q = q.baseAddress!, k = k.baseAddress!, v = v.baseAddress!
                            let context = context.baseAddress!, scores = scores.baseAddress!
                            Kernels.linear(x, rows: tokens, inputs: h, weight: layer.query, bias: layer.queryBias, outputs: h, into: q)
                            Kernels.linear(x, rows: tokens, inputs: h, weight: layer.key, bias: layer.keyBias, outputs: h, into: k)
                            Kernels.linear(x, rows: tokens, inputs: h, weight: layer.value, bias: layer.valueBias, outputs: h, into: v)
                            var offset = 0
                            for length in lengths {
                                let n = Int32(length)
                                for head in 0..<shape.heads {
                                    let column = offset * h + head * headWidth
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(headWidth), scale,
                                        q + column, Int32(h), k + column, Int32(h), 0, scores, n)
                                    Kernels.softmaxRows(scores, rows: length, width: length)
                                    cblas_sgemm(
                                        CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(headWidth), n, 1,
                                        scores, n, v + column, Int32(h), 0, context + column, Int32(h))
                                }
                                offset += length
                            }
                        }
                    }
                }
            }
        }
        scratch.context.withUnsafeBufferPointer { context in
            scratch.projected.withUnsafeMutableBufferPointer { projected in
                let projected = projected.baseAddress!
                Kernels.linear(
                    context.baseAddress!, rows: tokens, inputs: h, weight: layer.attentionOut, bias: layer.attentionOutBias,
                    outputs: h, into: projected)
                Kernels.addAndNormalize(
                    x, adding: projected, rows: tokens, width: h, gain: layer.attentionNormGain, bias: layer.attentionNormBias,
                    epsilon: shape.layerNormEpsilon)
            }
        }
        scratch.inner.withUnsafeMutableBufferPointer { inner in
            scratch.projected.withUnsafeMutableBufferPointer { projected in
                let inner = inner.baseAddress!, projected = projected.baseAddress!
                Kernels.linear(
                    x, rows: tokens, inputs: h, weight: layer.intermediate, bias: layer.intermediateBias,
                    outputs: shape.intermediate, into: inner)
                Kernels.gelu(inner, count: tokens * shape.intermediate)
                Kernels.linear(
                    inner, rows: tokens, inputs: shape.intermediate, weight: layer.output, bias: layer.outputBias, outputs: h,
                    into: projected)
                Kernels.addAndNormalize(
                    x, adding: projected, rows: tokens, width: h, gain: layer.outputNormGain, bias: layer.outputNormBias,
                    epsilon: shape.layerNormEpsilon)
            }
        }
    }
}
