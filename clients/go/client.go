// Package giropops connects to giropops-senhas, a password-generation
// service over gRPC. The generated API is in package giropopsv1.
package giropops

import (
	"crypto/tls"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/giropops/giropops-senhas/clients/go/giropopsv1"
)

// Dial returns a PasswordService client for target ("host:port"), in
// plaintext, or over TLS with the system roots when useTLS is true. Close
// the returned connection when done.
func Dial(target string, useTLS bool) (giropopsv1.PasswordServiceClient, *grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if useTLS {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, err
	}
	return giropopsv1.NewPasswordServiceClient(conn), conn, nil
}
