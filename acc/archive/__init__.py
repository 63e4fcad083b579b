"""The runs archive: every run recorded in a runs directory (SQLite + safetensors), listed,
compared, exported and kept across restarts and crashes (see docs/archive.md).

`store.RunArchive` is the runs directory, `recorder.RunRecorder` the callback that records a
loop, `seat` the recorded sessions and free runs of the model seat, `cli` `acc runs`. Nothing is
imported here, so the command line can read `vocabulary` without loading torch.
"""
