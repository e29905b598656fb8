import Foundation
import Maintenance

/// The scaling curve as an SVG of four panels: each job's rate with its floor, the heartbeat
/// rate, the foreground writer's p99 against store size, and recall's p99 against agent size.
/// Both axes are logarithmic where the values span decades.
struct ScaleChart {
    struct Series {
        var name: String
        var color: String
        var dashed = false
        var points: [(x: Double, y: Double)]
    }

    struct Panel {
        var title: String
        var xLabel: String
        var yLabel: String
        var logY: Bool
        var series: [Series]
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    static let width = 480.0
    static let height = 320.0

    static func svg(_ report: ScaleReport) -> String {
        let sizes = report.points.map { Double($0.memories) }
        var panels: [Panel] = []
        var jobSeries: [Series] = []
        for (index, job) in [JobName.purge, .decay, .orphans].enumerated() {
            let figures = report.points.compactMap { point in point.job(job).map { (Double(point.memories), $0) } }
            jobSeries.append(Series(
                name: "\(job.rawValue)", color: colors[index], points: figures.map { ($0.0, $0.1.memkeepdRowsPerSecond) }))
            jobSeries.append(Series(
                name: "\(job.rawValue) floor", color: colors[index], dashed: true,
                points: figures.map { ($0.0, $0.1.floorRowsPerSecond) }))
        }
        panels.append(Panel(
            title: "Job rate (rows changed per second)", xLabel: "memories in the store", yLabel: "rows/s", logY: true,
            series: jobSeries))
        panels.append(Panel(
            title: "Heartbeats, 32 connections", xLabel: "memories in the store", yLabel: "requests/s", logY: false,
            series: [Series(name: "touch", color: colors[0], points: zip(sizes, report.points.map(\.touchRequestsPerSecond)).map { ($0, $1) })]))
        panels.append(Panel(
            title: "Foreground writer p99 while a job runs", xLabel: "memories in the store", yLabel: "ms", logY: false,
            series: [JobName.purge, .decay].enumerated().map { index, job in
                Series(name: "during \(job.rawValue)", color: colors[index], points: report.points.compactMap { point in
                    point.job(job)?.writerDuringMemkeepd.map { (Double(point.memories), $0.p99Ms) }
                })
            }))
        panels.append(Panel(
            title: "Recall p99, repeated question, 4 connections", xLabel: "memories of the agent", yLabel: "ms", logY: false,
            series: report.points.enumerated().map { index, point in
                Series(name: "store of \(Self.count(Double(point.memories)))", color: colors[index % colors.count],
                    points: point.recall.map { (Double($0.agentMemories), $0.latency.p99Ms) })
            }))
        var out = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(2 * width))" height="\##(Int(2 * height))" font-family="sans-serif" font-size="11">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
        ]
        for (index, panel) in panels.enumerated() {
            out.append(contentsOf: draw(panel, x: Double(index % 2) * width, y: Double(index / 2) * height))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func count(_ value: Double) -> String {
        if value >= 1_000_000 { return String(format: value.truncatingRemainder(dividingBy: 1_000_000) == 0 ? "%.0fM" : "%.1fM", value / 1_000_000) }
        if value >= 1000 { return String(format: value.truncatingRemainder(dividingBy: 1000) == 0 ? "%.0fk" : "%.1fk", value / 1000) }
        return String(format: value < 10 ? "%.1f" : "%.0f", value)
    }

    /// Ticks at 1, 2 and 5 of each decade for a logarithmic axis, or about five round steps
    /// from zero for a linear one.
    static func ticks(low: Double, high: Double, log: Bool) -> [Double] {
        if log {
            var ticks: [Double] = []
            var decade = pow(10, floor(log10(low)))
            while decade <= high {
                for step in [1.0, 2, 5] where decade * step >= low && decade * step <= high { ticks.append(decade * step) }
                decade *= 10
            }
            return ticks
        }
        let raw = high / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: 0, through: high, by: step).map { $0 }
    }

    static func draw(_ panel: Panel, x originX: Double, y originY: Double) -> [String] {
        let left = originX + 64, right = originX + width - 16, top = originY + 36, bottom = originY + height - 64
        let xs = panel.series.flatMap { $0.points.map(\.x) }
        let ys = panel.series.flatMap { $0.points.map(\.y) }.filter { $0 > 0 }
        guard let minX = xs.min(), let maxX = xs.max(), let minY = ys.min(), let maxY = ys.max() else { return [] }
        let lowY = panel.logY ? minY / 1.5 : 0, highY = panel.logY ? maxY * 1.5 : maxY * 1.15
        let (lowX, highX) = minX == maxX ? (minX / 2, maxX * 2) : (minX / 1.3, maxX * 1.3)
        func px(_ value: Double) -> Double { left + (log10(value) - log10(lowX)) / (log10(highX) - log10(lowX)) * (right - left) }
        func py(_ value: Double) -> Double {
            let fraction = panel.logY
                ? (log10(value) - log10(lowY)) / (log10(highY) - log10(lowY)) : (value - lowY) / (highY - lowY)
            return bottom - fraction * (bottom - top)
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var out = [
            ##"<text x="\##(f(originX + width / 2))" y="\##(f(originY + 20))" text-anchor="middle" font-size="13" font-weight="bold">\##(panel.title)</text>"##,
            ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(right - left))" height="\##(f(bottom - top))" fill="none" stroke="#999"/>"##,
            ##"<text x="\##(f((left + right) / 2))" y="\##(f(bottom + 32))" text-anchor="middle">\##(panel.xLabel)</text>"##,
            ##"<text x="\##(f(originX + 14))" y="\##(f((top + bottom) / 2))" text-anchor="middle" transform="rotate(-90 \##(f(originX + 14)) \##(f((top + bottom) / 2)))">\##(panel.yLabel)</text>"##,
        ]
        for tick in Set(xs).sorted() {
            out.append(##"<line x1="\##(f(px(tick)))" y1="\##(f(bottom))" x2="\##(f(px(tick)))" y2="\##(f(bottom + 4))" stroke="#999"/>"##)
            out.append(##"<text x="\##(f(px(tick)))" y="\##(f(bottom + 16))" text-anchor="middle">\##(count(tick))</text>"##)
        }
        for tick in ticks(low: lowY, high: highY, log: panel.logY) {
            out.append(##"<line x1="\##(f(left))" y1="\##(f(py(tick)))" x2="\##(f(right))" y2="\##(f(py(tick)))" stroke="#eee"/>"##)
            out.append(##"<text x="\##(f(left - 4))" y="\##(f(py(tick) + 4))" text-anchor="end">\##(count(tick))</text>"##)
        }
        for (index, series) in panel.series.enumerated() {
            let path = series.points.filter { $0.y > 0 }.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            let dash = series.dashed ? ##" stroke-dasharray="5,4""## : ""
            out.append(##"<polyline points="\##(path)" fill="none" stroke="\##(series.color)" stroke-width="2"\##(dash)/>"##)
            for point in series.points where point.y > 0 {
                out.append(##"<circle cx="\##(f(px(point.x)))" cy="\##(f(py(point.y)))" r="3" fill="\##(series.color)"/>"##)
            }
            let legendX = left + Double(index % 3) * (right - left) / 3, legendY = bottom + 46 + Double(index / 3) * 13
            out.append(##"<line x1="\##(f(legendX))" y1="\##(f(legendY - 4))" x2="\##(f(legendX + 18))" y2="\##(f(legendY - 4))" stroke="\##(series.color)" stroke-width="2"\##(dash)/>"##)
            out.append(##"<text x="\##(f(legendX + 22))" y="\##(f(legendY))">\##(series.name)</text>"##)
        }
        return out
    }
}
