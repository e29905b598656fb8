/// Names a vector space: the model that made a vector and its dimensions. Vectors of another
/// model are never compared with this one's.
public struct EmbeddingModel: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var dimensions: Int

    public init(name: String, dimensions: Int) {
        self.name = name
        self.dimensions = dimensions
    }

    public var description: String { "\(name)/\(dimensions)" }
}

/// A memory whose content needs a vector.
public struct EmbeddingTask: Sendable, Equatable {
    public var memoryID: String
    public var agentID: String
    public var content: String

    public init(memoryID: String, agentID: String, content: String) {
        self.memoryID = memoryID
        self.agentID = agentID
        self.content = content
    }
}

/// A query's vector for recall.
public struct QueryEmbedding: Sendable {
    public var model: EmbeddingModel
    public var vector: [Float]

    public init(model: EmbeddingModel, vector: [Float]) {
        self.model = model
        self.vector = vector
    }
}

enum VectorCoding {
    /// Little-endian F32, as stored in `memory_vectors.vector`.
    static func blob(_ vector: [Float]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func append(blob: UnsafeRawBufferPointer, to floats: inout [Float]) {
        let count = blob.count / 4
        for index in 0..<count {
            floats.append(Float(bitPattern: UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))))
        }
    }
}
