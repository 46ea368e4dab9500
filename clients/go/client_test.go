package giropops_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	giropops "github.com/giropops/giropops-senhas/clients/go"
	"github.com/giropops/giropops-senhas/clients/go/giropopsv1"
)

// dial connects to the server under test, GIROPOPS_ADDR: http://host:port
// (or host:port) in plaintext, https://host:port over TLS with the system
// roots. Without it the test is skipped: these tests need a running server.
func dial(t *testing.T) (giropopsv1.PasswordServiceClient, context.Context) {
	t.Helper()
	addr := os.Getenv("GIROPOPS_ADDR")
	if addr == "" {
		t.Skip("GIROPOPS_ADDR is not set: these tests need a running server " +
			"(GIROPOPS_ADDR=http://host:port go test ./...); bash clients/test.sh starts one")
	}
	target, useTLS := strings.CutPrefix(addr, "https://")
	if !useTLS {
		target = strings.TrimPrefix(addr, "http://")
	}
	client, conn, err := giropops.Dial(strings.TrimSuffix(target, "/"), useTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return client, ctx
}

func TestGeneratePassword(t *testing.T) {
	client, ctx := dial(t)
	reply, err := client.GeneratePassword(ctx, &giropopsv1.GeneratePasswordRequest{
		Length: 24, MinDigits: 3, IncludeUppercase: proto.Bool(false), Count: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reply.GetPasswords()) != 2 || reply.GetPassword() != reply.GetPasswords()[0] {
		t.Fatalf("unexpected batch: %d passwords", len(reply.GetPasswords()))
	}
	for _, p := range reply.GetPasswords() {
		digits := 0
		for _, c := range p {
			if unicode.IsUpper(c) {
				t.Fatalf("upper case turned off, got %q", c)
			}
			if unicode.IsDigit(c) {
				digits++
			}
		}
		if len(p) != 24 || digits < 3 {
			t.Fatalf("length %d, %d digits", len(p), digits)
		}
	}
	if !reply.GetStored() || reply.GetEntropyBits() <= 0 {
		t.Fatalf("stored=%v entropy=%v", reply.GetStored(), reply.GetEntropyBits())
	}
}

func TestInvalidArgument(t *testing.T) {
	client, ctx := dial(t)
	_, err := client.GeneratePassword(ctx, &giropopsv1.GeneratePasswordRequest{Length: 3})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "between 4 and 1024") {
		t.Fatalf("got %v: %s", st.Code(), st.Message())
	}
}

func TestListPasswords(t *testing.T) {
	client, ctx := dial(t)
	generated, err := client.GeneratePassword(ctx, &giropopsv1.GeneratePasswordRequest{})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := client.ListPasswords(ctx, &giropopsv1.ListPasswordsRequest{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed.GetPasswords()) == 0 || listed.GetPasswords()[0].GetPassword() != generated.GetPassword() {
		t.Fatal("the newest password is not listed first")
	}
}

func TestGeneratePassphrase(t *testing.T) {
	client, ctx := dial(t)
	reply, err := client.GeneratePassphrase(ctx, &giropopsv1.GeneratePassphraseRequest{
		WordCount: 4, Separator: proto.String("."), IncludeNumber: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(reply.GetPassphrase(), ".")); n != 4 {
		t.Fatalf("%d words", n)
	}
}

func TestCheckPassword(t *testing.T) {
	client, ctx := dial(t)
	reply, err := client.CheckPassword(ctx, &giropopsv1.CheckPasswordRequest{Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	if reply.GetScore() != 0 || reply.GetWarning() == "" {
		t.Fatalf("score %d, warning %q", reply.GetScore(), reply.GetWarning())
	}
}

func TestStreamPasswords(t *testing.T) {
	client, ctx := dial(t)
	stream, err := client.StreamPasswords(ctx, &giropopsv1.StreamPasswordsRequest{Count: 300})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		message, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[message.GetPassword()] = true
	}
	if len(seen) != 300 {
		t.Fatalf("%d distinct passwords", len(seen))
	}
}
