// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "memkeep",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "memkeepd", targets: ["memkeepd"]),
        .library(name: "MemoryStore", targets: ["MemoryStore"]),
        .library(name: "Maintenance", targets: ["Maintenance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "MemoryStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Maintenance",
            dependencies: [
                "MemoryStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "memkeepd",
            dependencies: [
                "MemoryStore",
                "Maintenance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["MemoryStore"], path: "Tests/TestSupport"),
        .testTarget(name: "MemoryStoreTests", dependencies: ["MemoryStore", "TestSupport"]),
        .testTarget(name: "MaintenanceTests", dependencies: ["Maintenance", "MemoryStore", "TestSupport"]),
        .testTarget(name: "memkeepdTests", dependencies: ["memkeepd", "MemoryStore", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
