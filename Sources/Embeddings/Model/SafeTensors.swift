import Foundation

/// A read-only, memory-mapped safetensors file: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw data. Mapping (not
/// reading) the file keeps only the pages the model touches resident: of the 30,522 word
/// embeddings, only the rows of tokens actually seen.
public final class SafeTensors: @unchecked Sendable {
    public struct Tensor: Sendable {
        public let dtype: String
        public let shape: [Int]
        let range: Range<Int>
    }

    public let path: String
    public let tensors: [String: Tensor]
    // Immutable after init; the mapping lives as long as the object.
    private let base: UnsafeRawPointer
    private let length: Int
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EmbeddingError.modelFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw EmbeddingError.modelFile(path: path, reason: String(cString: strerror(errno))) }
        let length = Int(info.st_size)
        guard length >= 8 else { throw EmbeddingError.modelFile(path: path, reason: "shorter than a safetensors header") }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw EmbeddingError.modelFile(path: path, reason: "mmap: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(mapped)
        let headerLength = Int(truncatingIfNeeded: UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
        do {
            guard headerLength > 0, headerLength <= length - 8 else {
                throw EmbeddingError.modelFile(path: path, reason: "header length \(headerLength) exceeds the file")
            }
            let header = Data(bytes: base + 8, count: headerLength)
            self.tensors = try Self.parseHeader(header, dataLength: length - 8 - headerLength, path: path)
        } catch {
            munmap(mapped, length)
            throw error
        }
        self.base = base
        self.length = length
        self.dataStart = 8 + headerLength
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    /// An F32 tensor of exactly `shape`, as a pointer into the mapping.
    public func floats(_ name: String, shape: [Int]) throws -> UnsafePointer<Float> {
        guard let tensor = tensors[name] else { throw EmbeddingError.modelFile(path: path, reason: "no tensor \(name)") }
        guard tensor.dtype == "F32" else {
            throw EmbeddingError.modelFile(path: path, reason: "\(name) is \(tensor.dtype), expected F32")
        }
        guard tensor.shape == shape else {
            throw EmbeddingError.modelFile(path: path, reason: "\(name) has shape \(tensor.shape), expected \(shape)")
        }
        let start = dataStart + tensor.range.lowerBound
        guard start % MemoryLayout<Float>.alignment == 0 else {
            throw EmbeddingError.modelFile(path: path, reason: "\(name) is not aligned for F32")
        }
        return (base + start).assumingMemoryBound(to: Float.self)
    }

    static func parseHeader(_ header: Data, dataLength: Int, path: String) throws -> [String: Tensor] {
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw EmbeddingError.modelFile(path: path, reason: "the header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in object where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength
            else {
                throw EmbeddingError.modelFile(path: path, reason: "tensor \(name) has a malformed header entry")
            }
            let width = ["F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4][dtype]
            if let width, shape.reduce(width, *) != offsets[1] - offsets[0] {
                throw EmbeddingError.modelFile(path: path, reason: "tensor \(name): shape \(shape) does not match its \(offsets[1] - offsets[0]) bytes")
            }
            tensors[name] = Tensor(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        return tensors
    }
}
