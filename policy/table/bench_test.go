package table

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// sinkRow and sinkText keep the compiler from dropping benchmarked work.
var (
	sinkRow  int
	sinkText string
	sinkBool bool
)

// BenchmarkLookup sets a hit, a miss and a hashed hit beside one string
// comparison, the cost a lookup adds to a condition.
func BenchmarkLookup(b *testing.B) {
	plain := bigTable(b, 100_000, false)
	hashed := bigTable(b, 100_000, true)
	desk, _, _ := plain.Column("desk")
	probe := strings.Clone("+15550050000")
	b.Run("equals", func(b *testing.B) {
		other := strings.Clone("+15550050000")
		for b.Loop() {
			sinkBool = probe == other
		}
	})
	b.Run("hit", func(b *testing.B) {
		for b.Loop() {
			r, _ := plain.Find(probe)
			sinkText = plain.Text(r, desk)
		}
	})
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			sinkRow, sinkBool = plain.Find("+19990000000")
		}
	})
	b.Run("hashed", func(b *testing.B) {
		for b.Loop() {
			sinkRow, sinkBool = hashed.Find(probe)
		}
	})
}

// BenchmarkLoad loads a million rows of three short columns and reports
// rows a second and the heap the table keeps a row.
func BenchmarkLoad(b *testing.B) {
	const rows = 1_000_000
	data := []byte(csvRows(rows, false))
	spec := Spec{File: "big.csv", Key: "phone", Columns: map[string]Type{"seats": Number}}
	b.SetBytes(int64(len(data)))
	var kept uint64
	var tb *Table
	for b.Loop() {
		var before, after runtime.MemStats
		b.StopTimer()
		tb = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		var err error
		if tb, err = Parse(spec, data); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		kept = after.HeapAlloc - before.HeapAlloc
		b.StartTimer()
	}
	runtime.KeepAlive(tb)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(kept)/rows, "bytes/row")
}

// csvRows writes n rows of phone, desk and seats, keys hashed or not.
func csvRows(n int, hashed bool) string {
	var sb strings.Builder
	sb.WriteString("phone,desk,seats\n")
	for i := range n {
		k := "+1555" + strconv.Itoa(10_000_000 + i)[1:]
		if hashed {
			k = HashValue(k)
		}
		sb.WriteString(k + ",desk" + strconv.Itoa(i%7) + "," + strconv.Itoa(i%500) + "\n")
	}
	return sb.String()
}

func bigTable(b *testing.B, n int, hashed bool) *Table {
	tb, err := Parse(Spec{File: "big.csv", Key: "phone", Hashed: hashed}, []byte(csvRows(n, hashed)))
	if err != nil {
		b.Fatal(err)
	}
	return tb
}
