module gochanbench

go 1.19
