import COpenBLAS
import Foundation

/// The element-wise parts of the forward pass; the matrix products go to OpenBLAS.
enum Kernels {
    /// out[rows × outputs] = input[rows × inputs] · weightᵀ + bias, with PyTorch's [out, in] weights.
    static func linear(
        _ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        outputs: Int, into out: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<rows { (out + row * outputs).update(from: bias, count: outputs) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
            input, Int32(inputs), weight, Int32(inputs), 1, out, Int32(outputs))
    }

    static func layerNorm(
        _ row: UnsafeMutablePointer<Float>, width: Int, gain: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float
    ) {
        var mean: Float = 0
        for i in 0..<width { mean += row[i] }
        mean /= Float(width)
        var variance: Float = 0
        for i in 0..<width {
            let d = row[i] - mean
            variance += d * d
        }
        let inverse = 1 / (variance / Float(width) + epsilon).squareRoot()
        for i in 0..<width { row[i] = (row[i] - mean) * inverse * gain[i] + bias[i] }
    }

    /// x = LayerNorm(x + residual), row by row.
    static func addAndNormalize(
        _ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>, rows: Int, width: Int,
        gain: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float
    ) {
        for row in 0..<rows {
            let line = x + row * width
            let other = residual + row * width
            for i in 0..<width { line[i] += other[i] }
            layerNorm(line, width: width, gain: gain, bias: bias, epsilon: epsilon)
        }
    }

    static func softmaxRows(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let line = values + row * width
            var top = -Float.infinity
            for i in 0..<width { top = max(top, line[i]) }
            var sum: Float = 0
            for i in 0..<width {
                line[i] = expf(line[i] - top)
                sum += line[i]
            }
            let inverse = 1 / sum
            for i in 0..<width { line[i] *= inverse }
        }
    }

    /// BERT's exact GELU: x · Φ(x).
    static func gelu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let inverseRoot2: Float = 0.707_106_781_186_547_5
        for i in 0..<count {
            let x = values[i]
            values[i] = 0.5 * x * (1 + erff(x * inverseRoot2))
        }
    }

    static func meanPoolNormalized(_ x: [Float], rows: Range<Int>, width: Int) -> [Float] {
        var pooled = [Float](repeating: 0, count: width)
        guard !rows.isEmpty else { return pooled }
        for row in rows {
            for i in 0..<width { pooled[i] += x[row * width + i] }
        }
        let count = Float(rows.count)
        var norm: Float = 0
        for i in 0..<width {
            pooled[i] /= count
            norm += pooled[i] * pooled[i]
        }
        let inverse = norm > 0 ? 1 / norm.squareRoot() : 0
        for i in 0..<width { pooled[i] *= inverse }
        return pooled
    }
}
