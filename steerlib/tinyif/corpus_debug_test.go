package tinyif
import ("testing";"os";"fmt";"strconv";"time")
func TestDebugTrainSpeed(t *testing.T){
  steps, _ := strconv.Atoi(os.Getenv("TIF_STEPS"))
  if steps == 0 { t.Skip() }
  o := DefaultTrainOptions()
  o.OutDir = t.TempDir(); o.Steps = steps; o.Progress = os.Stderr; o.SaveEvery = 1000
  if v := os.Getenv("TIF_L"); v != "" { o.Arch.Layers, _ = strconv.Atoi(v) }
  if v := os.Getenv("TIF_D"); v != "" { o.Arch.Hidden, _ = strconv.Atoi(v) }
  if v := os.Getenv("TIF_I"); v != "" { o.Arch.Intermediate, _ = strconv.Atoi(v) }
  if v := os.Getenv("TIF_B"); v != "" { o.BatchSize, _ = strconv.Atoi(v) }
  st := time.Now()
  r, err := Train(o)
  if err != nil { t.Fatal(err) }
  fmt.Printf("%+v total %v\n", r, time.Since(st))
}
