// Package users keeps staff accounts: who they are and how they prove it. What
// they may do is the policy package's business; a user's roles are casbin grants.
package users

import (
	"context"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"gorm.io/gorm"

	"github.com/dockethq/docket/audit"
	"github.com/dockethq/docket/internal/database"
	"github.com/dockethq/docket/internal/errs"
	"github.com/dockethq/docket/policy"
)

// User is a staff account.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
}

// MinPasswordLength follows NIST SP 800-63B's floor for user-chosen secrets.
const MinPasswordLength = 12

// Params are argon2id parameters: RFC 9106's second recommended option
// (64 MiB, 3 passes) with 2 lanes for this size of machine.
var Params = &argon2id.Params{Memory: 64 * 1024, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// Service manages users.
type Service struct {
	db       *database.DB
	enforcer *policy.Enforcer
	now      func() time.Time
	// dummyHash is compared against when an email is unknown, so a login takes
	// the same time whether or not the account exists.
	dummyHash string
}

// NewService returns a users service.
func NewService(db *database.DB, enforcer *policy.Enforcer, now func() time.Time) *Service {
	h, _ := argon2id.CreateHash("docket-timing-equaliser", Params)
	return &Service{db: db, enforcer: enforcer, now: now, dummyHash: h}
}

// NewUser is the input to Create.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Roles    []string
}

// Validate checks a NewUser and returns field errors.
func (n *NewUser) Validate() error {
	f := map[string]string{}
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		f["email"] = "Enter an email address like name@example.com."
	}
	if n.Name == "" || len(n.Name) > 200 {
		f["name"] = "Enter a name (up to 200 characters)."
	}
	if len(n.Password) < MinPasswordLength || len(n.Password) > 1024 {
		f["password"] = "Use a password of at least 12 characters."
	}
	if len(n.Roles) == 0 {
		f["roles"] = "Choose at least one role."
	}
	for _, r := range n.Roles {
		if !policy.ValidRole(r) {
			f["roles"] = "Unknown role " + strconv.Quote(r) + "."
		}
	}
	return errs.Fields(f)
}

// Create adds a user with roles, in one transaction with its audit events.
func (s *Service) Create(ctx context.Context, actor string, n NewUser) (*User, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := argon2id.CreateHash(n.Password, Params)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &User{Email: n.Email, Name: n.Name, PasswordHash: hash, CreatedAt: now}
	err = s.db.W.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return &errs.Error{Code: errs.Conflict, Message: "A user with that email already exists.", Fields: map[string]string{"email": "This email is already in use."}}
			}
			return err
		}
		id := strconv.FormatInt(u.ID, 10)
		if err := audit.Record(tx, now, actor, "user.created", "user", id, map[string]any{"email": u.Email, "name": u.Name}); err != nil {
			return err
		}
		return policy.SetUserRoles(tx, now, actor, u.ID, n.Roles)
	})
	if err != nil {
		return nil, err
	}
	return u, s.enforcer.Reload()
}

// ErrBadCredentials is returned for a wrong email or password, without saying which.
var ErrBadCredentials = &errs.Error{Code: errs.Invalid, Message: "That email and password do not match an active account."}

// Authenticate checks an email and password and returns the active user.
func (s *Service) Authenticate(ctx context.Context, email, password string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var u User
	err := s.db.R.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		_, _ = argon2id.ComparePasswordAndHash(password, s.dummyHash)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	ok, err := argon2id.ComparePasswordAndHash(password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, ErrBadCredentials
	}
	return &u, nil
}

// ErrNotFound is returned for a user id or email that does not exist.
var ErrNotFound = errs.E(errs.NotFound, "No such user.")

// Get returns a user by id.
func (s *Service) Get(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.db.R.WithContext(ctx).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// ByEmail returns a user by email.
func (s *Service) ByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.db.R.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &u, err
}

// List returns all users by name.
func (s *Service) List(ctx context.Context) ([]User, error) {
	var us []User
	err := s.db.R.WithContext(ctx).Order("name, id").Find(&us).Error
	return us, err
}

// Roles returns a user's roles.
func (s *Service) Roles(u *User) []string { return s.enforcer.RolesOf(u.ID) }
