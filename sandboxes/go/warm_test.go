// Warms the Go build cache with testify and the standard packages HumanEval-X programs use.
package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"hxsentinel"

	"github.com/stretchr/testify/assert"
)

var _ = []interface{}{bytes.Compare, md5.Sum, hex.EncodeToString, errors.New, fmt.Sprint, math.Abs,
	big.NewInt, rand.Intn, os.Exit, reflect.DeepEqual, regexp.MustCompile, sort.Ints, strconv.Itoa,
	strings.Split, time.Now, unicode.IsUpper, utf8.RuneLen, hxsentinel.Print}

func TestWarm(t *testing.T) {
	assert.Equal(t, 1, 1)
}
