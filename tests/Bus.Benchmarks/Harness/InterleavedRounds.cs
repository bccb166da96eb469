using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bus.Benchmarks;

/// <summary>
/// Cases to compare, run in rounds, each case once per round in the order given and reversed every other round, each
/// its own BenchmarkDotNet run. A ratio is then taken within each round, between runs made seconds apart, and the
/// median of those is reported: on the noisy 2-vCPU machine the speed drifts by up to 2x within seconds, and a
/// producer-to-consumer hand-off lands in a fast or a slow regime by chance, so one ratio between two runs a minute
/// apart is a coin toss.
/// </summary>
internal sealed class InterleavedRounds
{
    private readonly int _cases;

    public InterleavedRounds(IConfig config, int rounds, IReadOnlyList<CaseSelector> cases)
    {
        _cases = cases.Count;
        Rounds = rounds;
        for (var round = 0; round < rounds; round++)
        {
            for (var turn = 0; turn < cases.Count; turn++)
            {
                var selector = cases[CaseAt(round, turn, cases.Count)];

                // Converted afresh for every run: each run gets cases of its own.
                var run = CaseSelector.RunOf(config, selector);
                if (run.BenchmarksCases.Length != 1)
                {
                    throw new InvalidOperationException($"{run.BenchmarksCases.Length} benchmark cases match {selector.Type.Name}.{selector.Method}; expected one.");
                }

                Infos.Add(run);
            }
        }
    }

    public int Rounds { get; }

    /// <summary>The runs, in the order to run them.</summary>
    public List<BenchmarkRunInfo> Infos { get; } = [];

    /// <summary>
    /// The reports of each round, by case in the order the cases were given, from <paramref name="summaries"/>: the
    /// summaries of <see cref="Infos"/>, in order, starting at <paramref name="start"/>.
    /// </summary>
    public BenchmarkReport[][] Read(IReadOnlyList<Summary> summaries, int start)
    {
        var reports = new BenchmarkReport[Rounds][];
        for (var round = 0; round < Rounds; round++)
        {
            reports[round] = new BenchmarkReport[_cases];
            for (var turn = 0; turn < _cases; turn++)
            {
                reports[round][CaseAt(round, turn, _cases)] = summaries[start + (round * _cases) + turn].Reports.Single();
            }
        }

        return reports;
    }

    /// <summary>Which case takes turn <paramref name="turn"/> of <paramref name="round"/>: in order, reversed every other round.</summary>
    public static int CaseAt(int round, int turn, int count) => round % 2 == 0 ? turn : count - 1 - turn;

    /// <summary>The median over rounds of a ratio taken within each round.</summary>
    public static double MedianOfRounds(BenchmarkReport[][] rounds, Func<BenchmarkReport[], double> ratio) =>
        Median(rounds.Select(ratio));

    /// <summary>The median over rounds of one case's median time, in nanoseconds per operation.</summary>
    public static double MedianTime(BenchmarkReport[][] rounds, int index) =>
        Median(rounds.Select(r => Time(r[index])));

    public static double Time(BenchmarkReport report) =>
        report.ResultStatistics?.Median
            ?? throw new InvalidOperationException($"{report.BenchmarkCase.DisplayInfo} produced no result; see its output above.");

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
