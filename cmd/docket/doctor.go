package main

import (
	"context"
	"io"
)

func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error { return nil }
