// A tiny example: go run ./example [host:port]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"google.golang.org/grpc/status"

	giropops "github.com/giropops/giropops-senhas/clients/go"
	"github.com/giropops/giropops-senhas/clients/go/giropopsv1"
)

func main() {
	target := "localhost:50051"
	if len(os.Args) > 1 {
		target = os.Args[1]
	}
	client, conn, err := giropops.Dial(target, false)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	reply, err := client.GeneratePassword(ctx, &giropopsv1.GeneratePasswordRequest{
		Length: 20, IncludeNumbers: true, IncludeSpecialChars: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%.1f bits)\n", reply.GetPassword(), reply.GetEntropyBits())

	_, err = client.GeneratePassword(ctx, &giropopsv1.GeneratePasswordRequest{Length: 3})
	st := status.Convert(err)
	fmt.Println(st.Code(), "-", st.Message())
}
