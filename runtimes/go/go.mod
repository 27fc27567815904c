module sockerr/runtimes/go

go 1.19
