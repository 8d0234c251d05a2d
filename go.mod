module github.com/atomix/go-client

go 1.26.8
